"""Looking after customers: follow-up tasks (回访), the feedback desk, birthday greetings and
win-back. Imports core, people and loyalty."""
