"""Register signals by name so YAML can use them.

A signal is a pure function of the aligned price panel::

    @signal("relative_momentum", lookback=lambda p: p["window"])
    def relative_momentum(x: SignalInputs, *, a: AssetRef, b: AssetRef, window: PositiveInt) -> np.ndarray:
        '''Difference of trailing returns: a's minus b's.'''

Its keyword-only parameters *are* the YAML keys (``{fn: relative_momentum, a: us, b: hk, window: 63}``);
their annotations validate the values (pydantic, strict, unknown keys refused);
parameters annotated :data:`AssetRef` must name an asset of the config, and
parameters annotated :data:`SignalRef` name another signal of the config or an
asset (then its price series), read with :meth:`SignalInputs.values`.
``lookback`` gives, for validated parameters, the number of leading rows that are
NaN on a clean full history: how much warm-up the signal needs (for a signal with
a :data:`SignalRef`, its own part only: the engine adds the warm-up of what it reads).  The
docstring (formula first) is the signal's documentation.

Contract, checked for every registered signal by ``tests/contracts``: the
output is a float array as long as the panel, NaN exactly during warm-up on
clean data, the input is untouched, the value at row t depends only on rows
``<= t``.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin, get_type_hints

import numpy as np
from pydantic import BaseModel, ConfigDict, create_model

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["REGISTRY", "AssetRef", "SignalDef", "SignalInputs", "SignalRef", "get_signal", "signal"]


class _AssetMarker:
    """Marks a parameter that names a config asset."""

    def __repr__(self) -> str:
        return "AssetRef"


ASSET = _AssetMarker()
#: Annotation of a parameter that names an asset (``us``, ``hk``) of the config.
AssetRef = Annotated[str, ASSET]


class _SignalMarker:
    """Marks a parameter that names another signal of the config, or an asset (its price series)."""

    def __repr__(self) -> str:
        return "SignalRef"


SIGNAL = _SignalMarker()
#: Annotation of a parameter that names another signal of the config, or an asset whose
#: price series is then the input (``^VIX``, a T-bill yield: read, never traded).
SignalRef = Annotated[str, SIGNAL]


@dataclass(frozen=True)
class SignalInputs:
    """What a signal may look at: prices known at each date's close on the union timeline.

    ``prices[asset]`` is the last traded price at or before each date (carried
    forward over that market's holidays, NaN before its first price).
    ``traded[asset]`` is True on the dates the asset actually traded.
    ``markets[asset]`` is ``us`` or ``hk``.
    ``close_order[market]`` is the position of that market's close within one calendar date
    (0 closes first: Hong Kong's close is known about 13 hours before New York's).
    ``signals[name]`` are the signals of the config already computed (the engine computes
    the ones a :data:`SignalRef` names first).
    ``fx[asset]`` is the value in the run's base currency of one unit of the asset's quote
    currency, as known on each date (1 for an asset quoted in the base currency); an asset in
    another currency has no entry when the data holds no exchange rate.
    """

    dates: pd.DatetimeIndex
    prices: Mapping[str, np.ndarray]
    traded: Mapping[str, np.ndarray]
    markets: Mapping[str, str]
    close_order: Mapping[str, int]
    signals: Mapping[str, np.ndarray] = field(default_factory=dict)
    fx: Mapping[str, np.ndarray] = field(default_factory=dict)

    def series(self, asset: str) -> pd.Series:
        """``prices[asset]`` as a Series on :attr:`dates` (a copy)."""
        import pandas as pd  # imported on use: `seesaw validate` loads the registry without pandas

        return pd.Series(np.array(self.prices[asset], dtype="float64"), index=self.dates)

    def values(self, name: str) -> pd.Series:
        """What a :data:`SignalRef` names, as a Series on :attr:`dates` (a copy).

        The computed signal ``name`` when there is one, else the price series of asset ``name``.
        """
        if name in self.signals:
            import pandas as pd

            return pd.Series(np.array(self.signals[name], dtype="float64"), index=self.dates)
        if name in self.prices:
            return self.series(name)
        known = sorted({*self.signals, *self.prices})
        raise KeyError(f"{name!r} is neither a computed signal nor an asset (known: {', '.join(known)})")


@dataclass(frozen=True)
class SignalDef:
    """A registered signal: its function, parameter model and warm-up.

    ``asset_params`` are the parameters annotated :data:`AssetRef`, ``signal_params`` those
    annotated :data:`SignalRef`; ``origin`` is ``seesaw`` for the built-in signals (the
    engine checks the output of a signal from elsewhere against the contract each time).
    """

    name: str
    func: Callable[..., np.ndarray]
    params: type[BaseModel]
    asset_params: tuple[str, ...]
    lookback: Callable[[Mapping[str, Any]], int]
    doc: str = field(repr=False)
    signal_params: tuple[str, ...] = ()
    origin: str = "seesaw"

    def __call__(self, inputs: SignalInputs, **params: Any) -> np.ndarray:
        out = np.asarray(self.func(inputs, **params), dtype="float64")
        if out.shape != (len(inputs.dates),):
            raise AssertionError(f"signal {self.name} returned shape {out.shape}, expected ({len(inputs.dates)},)")
        return out


REGISTRY: dict[str, SignalDef] = {}


def signal(name: str, *, lookback: Callable[[Mapping[str, Any]], int]):
    """Register the decorated function as signal ``name`` (see the module docstring)."""

    def register(func: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        if name in REGISTRY:
            raise ValueError(f"signal {name!r} is registered twice")
        hints = get_type_hints(func, include_extras=True)
        fields: dict[str, Any] = {}
        asset_params: list[str] = []
        signal_params: list[str] = []
        params = list(inspect.signature(func).parameters.items())
        for pname, param in params[1:]:  # params[0] receives the SignalInputs
            if param.kind is not inspect.Parameter.KEYWORD_ONLY:
                raise TypeError(f"signal {name}: parameter {pname!r} must be keyword-only")
            hint = hints[pname]
            if get_origin(hint) is Annotated and ASSET in get_args(hint)[1:]:
                asset_params.append(pname)
            if get_origin(hint) is Annotated and SIGNAL in get_args(hint)[1:]:
                signal_params.append(pname)
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[pname] = (hint, default)
        # defer_build: the validator is built when a config first uses the signal, not at import
        config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)
        model = create_model(f"{name}_params", __config__=config, **fields)
        REGISTRY[name] = SignalDef(
            name=name,
            func=func,
            params=model,
            asset_params=tuple(asset_params),
            lookback=lookback,
            doc=inspect.getdoc(func) or "",
            signal_params=tuple(signal_params),
        )
        return func

    return register


def get_signal(name: str) -> SignalDef:
    """The registered signal ``name``; ``KeyError`` with a did-you-mean message otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, REGISTRY, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise KeyError(f"unknown signal function {name!r} ({hint}known: {', '.join(sorted(REGISTRY))})") from None
