"""Screens shown over the main one: help, and later the modals."""
