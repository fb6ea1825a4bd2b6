"""What tests drive the app with: signed requests, webhooks, the app in process or not."""
