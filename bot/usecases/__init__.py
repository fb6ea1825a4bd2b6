"""The capabilities people ask for in Slack: look up, subscribe, the Home tab."""
