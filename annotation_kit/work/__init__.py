"""The team's work: tasks and their transitions, annotations, reviews, feedback, notifications,
mail."""
