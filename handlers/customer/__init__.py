"""Handlers for customers in their private chat with the bot; never imports handlers.staff."""
