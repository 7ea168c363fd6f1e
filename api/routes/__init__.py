"""The API's routers, one module per audience or job; `api.main` includes them all."""
