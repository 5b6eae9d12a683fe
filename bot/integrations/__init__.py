"""Modules that other programs load to put AccessBot's decisions in front of model calls. Each stands alone:
it imports nothing else from AccessBot, so the program loading it needs neither AccessBot's database nor
its settings."""
