"""Settings (environment) and the policy files a bureau edits."""
