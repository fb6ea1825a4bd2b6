"""The process: web, worker, command line, settings, and the wiring between them."""
