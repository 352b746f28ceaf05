"""What a user reads: text tables (:mod:`engine.render.text`, :mod:`engine.render.sweep_text`),
heatmaps (:mod:`engine.render.heatmap`) and self-contained HTML reports (:mod:`engine.render.html`).

Renderers take computed results and format them; they compute no metric of their own.
"""

__all__: list[str] = []
