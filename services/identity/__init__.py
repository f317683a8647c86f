"""Identity's rules: sign-in sessions and their refresh tokens, support sessions, service tokens, users."""
