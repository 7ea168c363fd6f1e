"""The audit log: who did what to accounts, exports and customers' data, when, and from where."""
