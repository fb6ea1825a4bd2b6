"""`lead-bot demo`: the real app beside an NLPearl sandbox and a local Slack console.

Started only by `lead-bot demo`; nothing here is imported by `serve` or `worker`.
"""
