"""studykit: pull PDF and Zotero annotations into Obsidian paper notes, and learn ViT by building it."""

__version__ = "0.1.0"
