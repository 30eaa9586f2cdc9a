package dev.penumbra.ml;

import dev.penumbra.core.Resources;
import dev.penumbra.core.predict.Features;

/** One learned outcome: the features of a piece of work and what it actually used. */
record Sample(Features features, Resources actual) {}
