"""Pure readers of outside input: `/lead` text, message text, webhooks, Slack's errors."""
