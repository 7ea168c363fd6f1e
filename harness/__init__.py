"""Running, testing and measuring the system: the supervisor behind `make run`, the Rasa command
wrappers, the model hash, throwaway PostgreSQL and Redis servers for tests, and the benchmarks.

The product itself (bot/, actions/, api/) never imports this package."""
