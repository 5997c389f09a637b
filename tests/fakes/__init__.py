"""Local fake HTTP servers standing in for external services (Telegram, the AIML API).

Each listens on 127.0.0.1 with a port chosen by the OS, in a thread, and records
what it was asked; tests point the code at it through the base-URL settings.
"""
