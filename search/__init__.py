"""Search shared by the Slack bot and the web editor."""
