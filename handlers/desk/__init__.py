"""The feedback desk both sides use: cards in the staff group, replies relayed both ways, the card buttons;
imports neither handlers.customer nor handlers.staff."""
