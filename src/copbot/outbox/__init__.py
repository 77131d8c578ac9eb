"""Messages the bot owes Slack: stored first, then delivered by the sender with retries."""
