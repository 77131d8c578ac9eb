"""The events inbox: every Slack event is recorded before its ack, taken once, replayed after a crash."""
