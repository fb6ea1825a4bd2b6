"""The feed: NLPearl's webhooks in, a threaded post per lead in each subscribed channel out."""
