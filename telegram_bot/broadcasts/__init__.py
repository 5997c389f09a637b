"""Broadcasts: one message staff send to many users (models, Telegram HTML check, audience, sending)."""
