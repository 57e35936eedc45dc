"""Read-models of the notifications service: rules_state (what the rules need to know, and the outbox of
notifications decided but not yet recorded) and feed (notifications, read marks, subscriptions)."""
