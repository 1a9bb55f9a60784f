"""Who is calling, and what they may do: principals, permissions, tokens, revocation."""
