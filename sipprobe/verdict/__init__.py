"""Demarc policy: findings with attribution, and the messaging/media verdict."""
