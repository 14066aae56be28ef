"""The project index: static facts about every module of the project, cached between runs."""
