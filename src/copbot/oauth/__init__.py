"""Many workspaces: Slack OAuth installs, the installation store in copbot's database, uninstalls."""
