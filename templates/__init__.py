"""The default memo template, installed as package data so `briefing` finds it from any folder."""
