/*
 * Page text in Spanish and English, and the one switch between them. A first visit follows the browser's
 * preferred languages (Spanish when it prefers neither); the switch's choice is kept in localStorage so it
 * survives a reload and wins over the browser's. That choice is made by language.js, loaded first, in
 * <head>, so the page can hide its Spanish text from an English reader until apply() has replaced it.
 * Text is only ever set with textContent.
 */
(function () {
  "use strict";

  const { STORAGE_KEY, LANGUAGES, TITLES, initial } = window.CXR_LANGUAGE;

  const MESSAGES = {
    es: {
      pageTitle: TITLES.es, // set before the body by language.js
      skip: "Saltar al contenido",
      brand: "Cribado de radiografías de tórax",
      tagline: "Ayuda de cribado de código abierto",
      langToggle: "English",
      langToggleLabel: "Switch to English",
      disclaimerTitle: "Ayuda de cribado, no un diagnóstico.",
      disclaimerText:
        "El resultado lo produce un modelo automático y puede equivocarse. Aprendió la neumonía viral solo de " +
        "radiografías de niños y la COVID-19 casi solo de adultos: en un adulto, una neumonía de otra causa " +
        "puede leerse como COVID-19, y en un niño la COVID-19 a menudo pasa desapercibida. No sustituye la " +
        "valoración de un profesional de la salud: consulte siempre a su médico.",
      title: "Analice una radiografía de tórax",
      lead:
        "Suba una radiografía de tórax frontal (PA o AP). El modelo indica si se parece más a una " +
        "radiografía normal, a una con COVID-19 o a una con neumonía viral. Suba el archivo de la imagen (el " +
        "DICOM, o el PNG o JPEG exportado), no una foto de la pantalla ni de la placa, y la placa entera, sin " +
        "recortarla ni añadirle bordes: una foto, un recorte o las franjas negras de una captura de pantalla " +
        "cambian la lectura.",
      uploadTitle: "Elija la imagen",
      dropHint: "Arrastre la imagen aquí o",
      choose: "Elegir archivo",
      formats:
        "PNG, JPEG, BMP, TIFF o DICOM (.dcm). Las imágenes grandes se reducen en su dispositivo antes de enviarlas.",
      clear: "Quitar imagen",
      analyseTitle: "Obtenga la lectura",
      diagnose: "Diagnosticar",
      diagnoseHint: "Primero elija una imagen.",
      diagnoseReady: "Pulse «Diagnosticar» para analizar la imagen.",
      diagnoseBusy: "Analizando la imagen; espere unos segundos.",
      progress: "Analizando la imagen…",
      progressPreparing: "Preparando la imagen…",
      infoTitle: "Cómo funciona",
      info1: "La imagen se analiza en memoria y se descarta: no se guarda ni se registra.",
      info2:
        "Primero se comprueba que la imagen parezca una radiografía de tórax frontal; si no lo parece, no se " +
        "da ninguna lectura.",
      info3:
        "Las probabilidades indican cuánto se parece la imagen a cada grupo de radiografías con las que se " +
        "entrenó el modelo. No son una probabilidad de enfermedad.",
      info4: "Ante síntomas como fiebre, tos o dificultad para respirar, acuda a un servicio de salud.",
      footer:
        "Proyecto de código abierto. Herramienta de apoyo al cribado, no un dispositivo médico certificado.",

      previewAlt: "Vista previa de la imagen elegida: {name}",
      noPreview: "El navegador no puede mostrar una vista previa de este archivo; se enviará tal cual.",
      dicomPreview: "Archivo DICOM: el navegador no puede mostrarlo; se enviará tal cual.",
      foreignPreview: "Este navegador no puede abrir este formato (HEIC, AVIF o WebP), y el servicio tampoco lo lee.",
      fileDetailsImage: "{width} × {height} px · {size}",
      fileDetailsScaled: "{width} × {height} px · {size} · se reducirá a {newWidth} × {newHeight} px antes de enviarla",
      fileDetailsConverted: "{width} × {height} px · {size} · se convertirá a PNG antes de enviarla",
      fileDetails: "{size}",

      "label.Normal": "Normal",
      "label.COVID-19": "COVID-19",
      "label.Viral Pneumonia": "Neumonía viral",

      resultTitle: "Resultado",
      readingIntro: "Lectura orientativa",
      probabilitiesTitle: "Probabilidades del modelo",
      indeterminateTitle: "Resultado no concluyente",
      indeterminateText:
        "El modelo no tiene suficiente confianza para dar una lectura con esta imagen. Las probabilidades se " +
        "muestran solo como referencia.",
      cardDisclaimer:
        "Ayuda de cribado, no un diagnóstico: lo que muestra el modelo debe valorarlo un profesional de la salud.",
      flaggedText:
        "Señalada por el umbral de cribado: la probabilidad de esta clase alcanza el umbral elegido para pasar " +
        "por alto menos casos, aunque no sea la lectura más probable o el modelo no esté seguro. Consulte a un médico.",
      notChestTitle: "La imagen no es una radiografía de tórax",
      notChestAdvice:
        "Suba una radiografía de tórax frontal (PA o AP): es lo único que el servicio lee. Intenta rechazar " +
        "tomografías (TC), resonancias, fotografías y radiografías de otras partes del cuerpo o laterales. " +
        "Si subió una foto de la pantalla o de la placa, suba el archivo de la imagen.",
      dicomHeader: "El propio archivo DICOM lo indica: {says}.",
      details: "Detalles técnicos",
      modelVersion: "Versión del modelo: {version}",
      consistency: "Parecido con una radiografía de tórax típica (SSIM): {ssim} (mínimo aceptado: {threshold})",
      frontalCheck:
        "Probabilidad de radiografía de tórax frontal (segundo control): {probability} (mínimo aceptado: {threshold})",
      explainToggle: "Mostrar dónde miró el modelo",
      explainHint:
        "Se marcan sobre la vista previa las zonas que más pesan en la lectura. La respuesta tarda un poco más.",
      heatmapLegend:
        "Zonas en rojo: donde ocultar parte de la imagen más reduce la confianza del modelo en su lectura. " +
        "Es una aproximación (sensibilidad a la oclusión), no un hallazgo médico.",
      again: "Analizar otra imagen",
      chooseAnother: "Elegir otra imagen",
      retry: "Reintentar",

      errorTitle: "No se pudo analizar la imagen",
      "error.too_large":
        "La imagen es demasiado grande. El límite es {limit}; pruebe con una imagen más pequeña o exportada en JPEG.",
      "error.too_many_pixels":
        "La imagen tiene demasiados píxeles para analizarla. Redúzcala (basta con unos 2000 píxeles de lado) o " +
        "expórtela más pequeña.",
      "error.unreadable": "No se pudo leer la imagen: el archivo parece dañado, incompleto o vacío.",
      "error.foreign_format":
        "Este navegador no puede abrir esa foto (HEIC, AVIF o WebP) y el servicio no lee esos formatos. " +
        "Guárdela o expórtela como JPEG o PNG y elíjala de nuevo.",
      "error.animated":
        "Este GIF es una animación de varias imágenes y no se ha enviado: solo se analizaría la primera, que " +
        "quizá no sea la radiografía que usted quiere. Guarde esa radiografía como imagen fija (PNG o JPEG) y " +
        "elíjala de nuevo.",
      "error.unsupported":
        "Ese tipo de archivo no se puede analizar. Use una imagen PNG, JPEG, BMP, TIFF o DICOM de una radiografía de tórax.",
      "error.too_small": "La imagen es demasiado pequeña para analizarla. Use una radiografía de mayor resolución.",
      "error.invalid": "La solicitud no es válida. Recargue la página e inténtelo de nuevo.",
      "error.unavailable":
        "El servicio no está disponible en este momento. Inténtelo de nuevo en unos minutos.",
      "error.busy": "El servicio está recibiendo demasiadas solicitudes. Espere un momento e inténtelo de nuevo.",
      "error.rate_limited":
        "Se enviaron demasiadas imágenes desde esta conexión en poco tiempo. Espere unos minutos y vuelva a intentarlo.",
      "error.server": "El servicio tuvo un problema al analizar la imagen. Inténtelo de nuevo más tarde.",
      "error.network":
        "No se pudo conectar con el servicio. Compruebe su conexión a Internet e inténtelo de nuevo.",
      "error.timeout": "El servicio tardó demasiado en responder. Inténtelo de nuevo.",
      "error.unexpected": "El servicio dio una respuesta inesperada. Inténtelo de nuevo más tarde.",
    },
    en: {
      pageTitle: TITLES.en,
      skip: "Skip to content",
      brand: "Chest radiograph screening",
      tagline: "Open-source screening aid",
      langToggle: "Español",
      langToggleLabel: "Cambiar a español",
      disclaimerTitle: "A screening aid, not a diagnosis.",
      disclaimerText:
        "The result comes from an automated model and can be wrong. It learned viral pneumonia from children's " +
        "films only and COVID-19 almost only from adults': in an adult, pneumonia of another cause may read as " +
        "COVID-19, and in a child COVID-19 is often missed. It does not replace an assessment by a " +
        "health professional: always consult your doctor.",
      title: "Check a chest radiograph",
      lead:
        "Upload a frontal (PA or AP) chest radiograph. The model says whether it looks more like a normal " +
        "radiograph, one with COVID-19 or one with viral pneumonia. Upload the image file itself (the DICOM, " +
        "or the exported PNG or JPEG), not a photo of a screen or of a film, and the whole film, not cropped " +
        "and without added borders: a photo, a crop or a screenshot's black bars change the reading.",
      uploadTitle: "Choose the image",
      dropHint: "Drag the image here or",
      choose: "Choose file",
      formats: "PNG, JPEG, BMP, TIFF or DICOM (.dcm). Large images are scaled down on your device before sending.",
      clear: "Remove image",
      analyseTitle: "Get the reading",
      diagnose: "Diagnose",
      diagnoseHint: "Choose an image first.",
      diagnoseReady: "Press “Diagnose” to analyse the image.",
      diagnoseBusy: "Analysing the image; please wait a few seconds.",
      progress: "Analysing the image…",
      progressPreparing: "Preparing the image…",
      infoTitle: "How it works",
      info1: "The image is analysed in memory and discarded: it is neither stored nor logged.",
      info2:
        "First the image is checked to look like a frontal chest radiograph; if it does not, no reading is given.",
      info3:
        "The probabilities say how much the image resembles each group of radiographs the model was trained " +
        "on. They are not a probability of disease.",
      info4: "If you have symptoms such as fever, cough or shortness of breath, see a health service.",
      footer: "Open-source project. A screening support tool, not a certified medical device.",

      previewAlt: "Preview of the chosen image: {name}",
      noPreview: "The browser cannot preview this file; it will be sent as it is.",
      dicomPreview: "DICOM file: the browser cannot show it; it will be sent as it is.",
      foreignPreview: "This browser cannot open this format (HEIC, AVIF or WebP), and the service does not read it either.",
      fileDetailsImage: "{width} × {height} px · {size}",
      fileDetailsScaled: "{width} × {height} px · {size} · will be scaled to {newWidth} × {newHeight} px before sending",
      fileDetailsConverted: "{width} × {height} px · {size} · will be converted to PNG before sending",
      fileDetails: "{size}",

      "label.Normal": "Normal",
      "label.COVID-19": "COVID-19",
      "label.Viral Pneumonia": "Viral pneumonia",

      resultTitle: "Result",
      readingIntro: "Screening reading",
      probabilitiesTitle: "Model probabilities",
      indeterminateTitle: "Inconclusive result",
      indeterminateText:
        "The model is not confident enough to give a reading for this image. The probabilities are shown for " +
        "reference only.",
      cardDisclaimer: "A screening aid, not a diagnosis: a health professional must judge what the model shows.",
      flaggedText:
        "Flagged by the screening threshold: this class's probability reaches the threshold chosen so that " +
        "fewer cases are missed, even if it is not the most probable reading or the model is unsure. Consult a physician.",
      notChestTitle: "The image is not a chest radiograph",
      notChestAdvice:
        "Upload a frontal (PA or AP) chest radiograph: it is all the service reads. It tries to refuse CT " +
        "scans, MRI, photographs, and radiographs of other body parts or lateral views. If you uploaded a " +
        "photo of a screen or of a film, upload the image file instead.",
      dicomHeader: "The DICOM file says so itself: {says}.",
      details: "Technical details",
      modelVersion: "Model version: {version}",
      consistency: "Similarity to a typical chest radiograph (SSIM): {ssim} (minimum accepted: {threshold})",
      frontalCheck:
        "Probability of a frontal chest radiograph (second check): {probability} (minimum accepted: {threshold})",
      explainToggle: "Show where the model looked",
      explainHint: "The areas that weigh most in the reading are marked on the preview. The answer takes a little longer.",
      heatmapLegend:
        "Red areas: where hiding part of the image most lowers the model's confidence in its reading. " +
        "An approximation (occlusion sensitivity), not a medical finding.",
      again: "Check another image",
      chooseAnother: "Choose another image",
      retry: "Try again",

      errorTitle: "The image could not be analysed",
      "error.too_large": "The image is too large. The limit is {limit}; try a smaller image or one exported as JPEG.",
      "error.too_many_pixels":
        "The image has too many pixels to analyse. Scale it down (about 2,000 pixels a side is plenty) or export it smaller.",
      "error.unreadable": "The image could not be read: the file looks damaged, incomplete or empty.",
      "error.foreign_format":
        "This browser cannot open that photo (HEIC, AVIF or WebP) and the service does not read those formats. " +
        "Save or export it as JPEG or PNG and choose it again.",
      "error.animated":
        "This GIF is an animation of several images and was not sent: only the first would be analysed, and it " +
        "may not be the radiograph you mean. Save that radiograph as a still image (PNG or JPEG) and choose it again.",
      "error.unsupported":
        "That type of file cannot be analysed. Use a PNG, JPEG, BMP, TIFF or DICOM image of a chest radiograph.",
      "error.too_small": "The image is too small to analyse. Use a higher-resolution radiograph.",
      "error.invalid": "The request was not valid. Reload the page and try again.",
      "error.unavailable": "The service is not available right now. Please try again in a few minutes.",
      "error.busy": "The service is receiving too many requests. Wait a moment and try again.",
      "error.rate_limited": "Too many images were sent from this connection in a short time. Wait a few minutes and try again.",
      "error.server": "The service had a problem analysing the image. Please try again later.",
      "error.network": "Could not reach the service. Check your Internet connection and try again.",
      "error.timeout": "The service took too long to answer. Please try again.",
      "error.unexpected": "The service gave an unexpected answer. Please try again later.",
    },
  };

  const listeners = [];
  let current = initial;

  /** Look up a message and fill {placeholders}; an unknown key shows itself so a gap is visible. */
  function t(key, values) {
    const table = MESSAGES[current];
    const text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : MESSAGES.es[key];
    if (text === undefined) return key;
    return text.replace(/\{(\w+)\}/g, function (match, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match;
    });
  }

  /** Put the current language's text into every [data-i18n] element under root. */
  function apply(root) {
    const scope = root || document;
    const nodes = scope.querySelectorAll("[data-i18n]");
    for (let i = 0; i < nodes.length; i++) {
      nodes[i].textContent = t(nodes[i].getAttribute("data-i18n"));
    }
    if (!root) {
      document.documentElement.lang = current;
      document.title = t("pageTitle");
      document.documentElement.classList.remove("lang-pending"); // the text is in its language: show it
    }
  }

  function setLanguage(lang) {
    if (LANGUAGES.indexOf(lang) < 0) return;
    current = lang;
    try {
      window.localStorage.setItem(STORAGE_KEY, lang);
    } catch (error) {
      /* not persisted, still switched */
    }
    apply();
    for (let i = 0; i < listeners.length; i++) listeners[i](lang);
  }

  /**
   * Locale-aware percentage with one decimal: "93,1 %" in Spanish, "93.1%" in English. The ends read
   * "> 99,9 %" and "< 0,1 %": a model's 0.99996 is not a certainty and must not look like one.
   */
  function percent(probability) {
    let prefix = "";
    let value = probability * 100;
    if (value > 99.9) {
      prefix = "> ";
      value = 99.9;
    } else if (value < 0.1) {
      prefix = "< ";
      value = 0.1;
    }
    const text = number(value, 1);
    return prefix + (current === "es" ? text + "\u00a0%" : text + "%");
  }

  /**
   * A number as the current language writes it, the one rule for every number the page shows (the API's
   * is function/errors.py `number`). Spanish (RAE, ISO 80000): a decimal comma, and from five digits on
   * groups of three joined by a no-break space so a number never wraps: "4,5", "4500", "17 000". English:
   * a decimal point, commas from four digits on: "4.5", "4,500", "17,000". Written out rather than
   * Intl.NumberFormat("es"), which in Chromium groups with a dot ("17.000").
   */
  function number(value, digits) {
    const spanish = current === "es";
    const text = Number(value).toFixed(digits || 0);
    const sign = text.charAt(0) === "-" ? "-" : "";
    const parts = text.slice(sign.length).split(".");
    let whole = parts[0];
    if (!spanish || whole.length >= 5) whole = whole.replace(/\B(?=(\d{3})+$)/g, spanish ? "\u00a0" : ",");
    return sign + whole + (parts.length > 1 ? (spanish ? "," : ".") + parts[1] : "");
  }

  /** File sizes in decimal units, as the API writes its limit ("4.5 MB" = 4,500,000 bytes). */
  function megabytes(bytes) {
    if (bytes < 1000000) return number(Math.max(bytes, 1) / 1000, 0) + " KB";
    return number(bytes / 1000000, 1) + " MB";
  }

  window.CXR_I18N = {
    t: t,
    apply: apply,
    setLanguage: setLanguage,
    language: function () {
      return current;
    },
    other: function () {
      return current === "es" ? "en" : "es";
    },
    onChange: function (listener) {
      listeners.push(listener);
    },
    keys: function (lang) {
      return Object.keys(MESSAGES[lang] || {});
    },
    percent: percent,
    number: number,
    size: megabytes,
  };
})();
