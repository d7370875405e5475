"""Asking customers: survey definitions, invitations, answers, statistics, audiences and the
after-purchase survey. Imports every context below it."""
