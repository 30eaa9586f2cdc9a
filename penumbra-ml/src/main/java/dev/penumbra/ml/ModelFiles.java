package dev.penumbra.ml;

import com.google.protobuf.InvalidProtocolBufferException;
import java.util.Set;
import org.tribuo.Model;
import org.tribuo.protos.core.ModelProto;
import org.tribuo.regression.Regressor;

/**
 * Reads a model saved in Tribuo's protobuf format. Tribuo instantiates the class the protobuf names, so only the
 * tree models this module fits are accepted: a saved file is data, and must not choose what code runs.
 */
final class ModelFiles {
  static final Set<String> TREE_MODELS = Set.of("org.tribuo.common.xgboost.XGBoostModel",
      "org.tribuo.regression.rtree.IndependentRegressionTreeModel", "org.tribuo.common.tree.TreeModel");

  private ModelFiles() {}

  @SuppressWarnings("unchecked")
  static Model<Regressor> read(byte[] bytes, String owner) {
    ModelProto proto;
    try {
      proto = ModelProto.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(owner + ": saved model is not a Tribuo model (" + e.getMessage() + ")", e);
    }
    if (!TREE_MODELS.contains(proto.getClassName())) {
      throw new IllegalArgumentException(owner + ": saved model is a " + proto.getClassName() + ", not one of "
          + TREE_MODELS);
    }
    Model<?> m;
    try {
      m = Model.deserialize(proto);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(owner + ": saved model cannot be read (" + e.getMessage() + ")", e);
    }
    if (!m.validate(Regressor.class)) {
      throw new IllegalArgumentException(owner + ": saved model is not a regression model");
    }
    return (Model<Regressor>) m;
  }
}
