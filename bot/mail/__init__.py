"""E-mail to customers: written to an outbox in the transaction of the change that causes it, sent
by the API's worker through SMTP (or to .eml files), with retries."""
