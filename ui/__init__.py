"""The Gradio app (``advisor.ui``). Not built yet: see the open UI issue."""
