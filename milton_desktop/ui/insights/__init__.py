"""The Insights view: an account's best hours as a heatmap, its posts' figures as a table."""
