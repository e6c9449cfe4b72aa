"""Identity and scopes: JWT verification, per-RPC scope rules, and the auth interceptor."""
