"""Live events: the broker between API processes, the frames on a socket, and the customer's and
the agent console's WebSockets."""
