"""Scheduled work: jobs ask the services what is due and put the messages in the outbox."""
