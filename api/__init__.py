"""FastAPI application: routes, auth, dashboard and WebRTC signalling."""
