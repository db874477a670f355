"""Shapes3D VAE training step throughput in TensorFlow/Keras (NHWC, oneDNN), batch 32 float32.

Usage: python step_tf.py THREADS STEPS [xla] (the paper's architecture in Keras layers; batch norm
called with training=False, the affine map the paper ran; AMSGrad; BCE summed over pixels + KL)."""
import os, sys
threads, steps = int(sys.argv[1]), int(sys.argv[2]); xla = len(sys.argv) > 3 and sys.argv[3] == "xla"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
from _timing import report
tf.config.threading.set_intra_op_parallelism_threads(threads); tf.config.threading.set_inter_op_parallelism_threads(1)
tf.random.set_seed(0)
L = tf.keras.layers
inp = tf.keras.Input((64, 64, 3)); h = inp
for c in (32, 64, 128, 256):
    h = L.LeakyReLU(0.3)(L.BatchNormalization()(L.Conv2D(c, 4, strides=2)(h), training=False))
h = L.GlobalAveragePooling2D()(h)
enc = tf.keras.Model(inp, [L.Dense(20)(h), L.Dense(20)(h)])
zin = tf.keras.Input((20,)); g = L.Reshape((4, 4, 256))(L.Dense(4096)(zin))
for i, c in enumerate((128, 64, 32, 3)):
    g = L.Conv2D(c, 3, padding="same")(L.UpSampling2D()(g))
    g = L.LeakyReLU(0.3)(L.BatchNormalization()(g, training=False)) if i < 3 else L.Activation("sigmoid")(g)
dec = tf.keras.Model(zin, g)
opt = tf.keras.optimizers.Adam(1e-3, amsgrad=True)
x = tf.random.uniform((32, 64, 64, 3))
variables = enc.trainable_variables + dec.trainable_variables
@tf.function(jit_compile=xla)
def step():
    with tf.GradientTape() as tape:
        mu, lv = enc(x, training=False)
        z = mu + tf.exp(0.5 * lv) * tf.random.normal(tf.shape(mu))
        xh = dec(z, training=False)
        rec = tf.reduce_sum(tf.keras.losses.binary_crossentropy(x, xh) * 3.0) / 32  # BCE summed over pixels and channels
        kl = -0.5 * tf.reduce_sum(1 + lv - mu ** 2 - tf.exp(lv)) / 32
        loss = rec + kl
    opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
report(step, steps, "tensorflow" + ("-xla" if xla else ""), tf=tf.__version__)
