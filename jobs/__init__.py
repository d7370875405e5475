"""Scheduled duties: short ticks that read what is due from the database and write outbox rows;
sender.py drains the outbox within Telegram's limits. Wired to the JobQueue in bot.app."""
