"""Sign-up, sign-in, sessions, verification and password reset."""
