package dev.penumbra.stream;

import dev.penumbra.core.Resources;
import java.time.Duration;

/**
 * A partition's plan at one horizon.
 *
 * @param horizon how far ahead
 * @param ratePoint forecast arrival rate, records per second
 * @param rateUpper its upper bound at the priority's quantile
 * @param workers workers needed for {@code rateUpper}
 * @param resources CPU and memory to reserve for it
 */
public record HorizonPlan(Duration horizon, double ratePoint, double rateUpper, int workers, Resources resources) {}
