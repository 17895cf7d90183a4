"""Facts on the easel sheet: differentiators, acknowledgements ("knows we know"), recognition, import."""
