package dev.penumbra.core.loop;

/** {@link Actuator#NONE} under the actuator contract: it actuates nothing, so nothing it does may change anything. */
class NoneActuatorContractTest extends ActuatorContract {

  @Override
  protected Actuator create() {
    return Actuator.NONE;
  }

  @Override
  protected Object realState() {
    return "nothing";
  }

  @Override
  protected boolean actuates() {
    return false;
  }
}
