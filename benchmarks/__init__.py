"""Benchmarks print tables (never timed assertions). They encrypt personal data like the bot: with
ENGAGEBOT_SECRET_KEY if set, else a key made for this run (set in the environment, so a benchmark that
builds the Application from settings uses the same one)."""

import os

from storage.core import crypto

os.environ.setdefault(crypto.KEY_ENV, crypto.new_secret())
crypto.configure(os.environ[crypto.KEY_ENV])
