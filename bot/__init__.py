"""The application: settings, wiring, the CLI, the web server and the message catalogs."""
