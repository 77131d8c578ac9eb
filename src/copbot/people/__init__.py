"""People: onboarding with mentors, roles, teams, anonymous questions, privacy controls."""
