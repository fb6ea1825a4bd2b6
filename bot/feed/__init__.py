"""Channel notifications: receive NLPearl webhooks into the outbox, deliver them to Slack."""
