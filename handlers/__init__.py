"""Telegram adapters: parse input, call storage, render the reply. One module per capability."""
