"""The capabilities people ask for in Slack: look up a lead, the modals, the campaign picker,
subscribe, the Home tab."""
