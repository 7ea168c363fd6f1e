"""What is held about one customer: everything, as JSON (GDPR art. 15), or erased (art. 17)."""
