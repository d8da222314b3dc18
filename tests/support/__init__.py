"""Real services for the tests: a private Mosquitto broker and a throwaway PostgreSQL cluster."""
